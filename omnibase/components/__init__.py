"""The kinds of component, one module each: ``python`` (registry ``python:`` entries:
imported here or in a worker, restoring, their own files), ``command`` (registry
``command:`` entries as ``Command`` values), ``builtin`` (the built-in checks as
``BuiltinCheck`` values); ``files`` is the file selection the first two share.

Each kind that is a class of function values registers itself in the kind table
(``omnibase.drivers.kinds``) when its module is imported; performers call components
through that table."""
