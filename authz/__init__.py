"""Identity and authorization core for the e-tax bureau login system (no Flask imports here)."""
