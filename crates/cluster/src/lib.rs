//! The hybrid cluster spec: providers, regions, zones, node pools and instance types, turned into the Node objects a cloud controller manager would label. No I/O.
