"""Browser tests of each person's first hour (`make test-browser`)."""
