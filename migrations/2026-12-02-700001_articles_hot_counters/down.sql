ALTER TABLE articles RESET (fillfactor);
