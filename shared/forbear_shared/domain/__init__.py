"""The lender's shared domain: money, business dates, schedules, arrears,
allocation, policy and hardship evidence.

Everything in this package is pure: no I/O, no wall clock. The business date
is always passed in, and the policy is an object handed to each function, so
a credit officer can replay any decision from its inputs and policy version.
"""
