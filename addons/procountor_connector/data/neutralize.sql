-- A neutralised copy must never talk to a real Procountor with production credentials.
UPDATE procountor_backend
   SET client_id = NULL, client_secret = NULL, api_key = NULL, active = false;
