"""TF Serving's REST behaviour, asserted against the spawned server (real or stand-in), citing
TF Serving's own source files."""
