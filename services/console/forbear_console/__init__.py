"""The operations console: a page for the lender's agents and supervisors, served with a
same-origin proxy to the four services' APIs and the KPIs computed from their lists."""
