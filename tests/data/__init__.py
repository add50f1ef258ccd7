"""Data files the tests read, and the scripts that write them."""
