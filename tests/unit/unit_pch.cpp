// Nothing: the object library exists to build the unit tests' precompiled header.
