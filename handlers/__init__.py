"""E-Humas bot."""
