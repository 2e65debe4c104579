"""``community-sim explain``: which of the changes from one scenario to another made the difference."""
