"""The policy lab: one portfolio, several policies, the services' own rules, side by side.

``python -m forbear_policy_lab compare --portfolio SEED|FILE --policy A.toml --policy B.toml``
(README "Policy lab").
"""
