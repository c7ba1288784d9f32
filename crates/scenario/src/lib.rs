//! What-if scenarios under virtual time (issue #5): the scenario file, the engine that drives the
//! whole twin through a timeline of actions, the expectations and the report. Being built.
