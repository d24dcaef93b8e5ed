"""People and their access: users, teams synced from config, API tokens, passwords, portal sign-up."""
