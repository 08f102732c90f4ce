"""Sources: adapters from each origin (callbacks, astream_events, ...) to streamviz events."""
