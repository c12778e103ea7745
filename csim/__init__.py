"""aptune: csim."""
