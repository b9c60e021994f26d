//! Durations in the words of a message: "1 second", "3 seconds", "0.5 seconds".

use std::time::Duration;

/// `duration` in seconds, singular for exactly one: what "within N seconds" says.
pub fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if duration == Duration::from_secs(1) {
        "1 second".to_string()
    } else if secs.fract() == 0.0 {
        format!("{} seconds", duration.as_secs())
    } else {
        format!("{secs} seconds")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_second_is_singular_and_the_rest_plural() {
        assert_eq!(seconds(Duration::from_secs(1)), "1 second");
        assert_eq!(seconds(Duration::from_secs(0)), "0 seconds");
        assert_eq!(seconds(Duration::from_secs(30)), "30 seconds");
        assert_eq!(seconds(Duration::from_millis(500)), "0.5 seconds");
        assert_eq!(seconds(Duration::from_millis(1500)), "1.5 seconds");
    }
}
