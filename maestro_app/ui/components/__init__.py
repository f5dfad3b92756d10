"""Dashboard building blocks shared by the pages."""
