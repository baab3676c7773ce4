from . import membook_demo
