"""Lambda that expires pending uploads nobody finished in time (run on a schedule)."""
