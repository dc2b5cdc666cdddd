"""The lab's pure part: the borrower behaviour model, one agreement's life under the ladder,
the additive tallies and their confidence intervals. No I/O, no clock (as every ``domain/``)."""
