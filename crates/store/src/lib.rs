//! Revisioned key-value store with etcd v3 semantics: memory and redb backends, watch, compaction, group commit.
