"""In-process unit tests of the stand-in (``fashion/serving``), one folder per subpackage."""
