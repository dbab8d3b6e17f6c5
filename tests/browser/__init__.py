"""Tests in a real browser: headless Chromium against the demo site and the widget."""
