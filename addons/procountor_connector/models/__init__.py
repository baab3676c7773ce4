from . import procountor_backend
