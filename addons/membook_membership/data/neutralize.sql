-- A neutralised copy must never read or move the production bank files.
UPDATE account_journal SET membook_import_folder = NULL;
