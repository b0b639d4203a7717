-- local placeholder for another helper's migration (not committed)
SELECT 1;
