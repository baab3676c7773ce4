-- A neutralised copy must never hand cases to a real agency.
UPDATE collection_backend SET api_key = NULL, active = false;
