"""A demo lender driven through Forbear's public doors only (HTTP APIs and core-banking topics)."""
