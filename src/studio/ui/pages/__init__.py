"""The app's pages: migration review, table browser, compare, ..."""
