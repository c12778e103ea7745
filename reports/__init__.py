"""aptune: reports."""
