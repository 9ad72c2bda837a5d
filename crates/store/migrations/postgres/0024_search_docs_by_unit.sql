-- Lookup for a store's user: the trigram and bigram indexes gave every match in the chain and
-- the unit was tested on each one's row (a fragment that 140,000 documents hold cost 140,000
-- row visits to find a store's handful: p99 242 ms at 1M customers). With the unit inside the
-- index (btree_gin), the index intersects the unit's entries with the fragment's and only the
-- store's matches are visited. A multicolumn GIN index answers a condition on any of its
-- columns alone as well, so these replace the single-column ones (head office's lookup).
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX search_docs_unit_doc_trgm ON search_docs USING gin (org_unit_id, doc gin_trgm_ops);
CREATE INDEX search_docs_unit_cjk ON search_docs USING gin (org_unit_id, string_to_array(cjk, ' '));
DROP INDEX search_docs_doc_trgm;
DROP INDEX search_docs_cjk;
