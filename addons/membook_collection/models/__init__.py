from . import membook_demo
from . import membook_overview
