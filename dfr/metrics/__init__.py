"""Outcome metrics: what the program achieved over a window, from the stored record."""
