from . import collection_backend
