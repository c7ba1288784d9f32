//! The Kubernetes REST API over the store: request parsing, discovery, OpenAPI, CRUD, watch, patch, Table output.
