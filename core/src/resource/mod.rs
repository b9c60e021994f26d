//! Group resource types other than exec, as the configuration sees them: their parameters
//! and checks. What brings them up lives in the engine (`fip`: through clp-net).

pub mod fip;
