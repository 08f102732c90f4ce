"""Text for people: payload previews, token and part text, the run tree, console output.

Shared by the widgets and by what ``sv.watch`` prints outside a notebook. It reads events and
runs and knows nothing of where they came from (sources) or how they are drawn (widgets).
"""
