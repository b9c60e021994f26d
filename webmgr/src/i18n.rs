//! The WebManager's words in English and Japanese (`[cluster] language`), chosen on the
//! server: a page carries the table of its language, and its script looks words up by key.
//! Status words keep the original's English word as their key (`Online`, `Normal`).

use std::collections::BTreeMap;

/// A language the pages speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// English.
    English,
    /// Japanese.
    Japanese,
}

impl Language {
    /// `ja` is Japanese; anything else English.
    pub fn from_code(code: &str) -> Language {
        if code == "ja" {
            Language::Japanese
        } else {
            Language::English
        }
    }

    /// The code for `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Japanese => "ja",
        }
    }

    /// The word for `key` (empty when the table lacks it).
    pub fn text(self, key: &str) -> &'static str {
        TEXTS
            .iter()
            .find(|(k, _, _)| *k == key)
            .map_or("", |(_, en, ja)| match self {
                Language::English => en,
                Language::Japanese => ja,
            })
    }

    /// The whole table of this language, for a page's script.
    pub fn table(self) -> BTreeMap<&'static str, &'static str> {
        TEXTS
            .iter()
            .map(|(key, en, ja)| {
                (
                    *key,
                    match self {
                        Language::English => *en,
                        Language::Japanese => *ja,
                    },
                )
            })
            .collect()
    }
}

/// (key, English, Japanese).
const TEXTS: &[(&str, &str, &str)] = &[
    ("title", "clp WebManager", "clp WebManager"),
    ("cluster", "Cluster", "クラスタ"),
    ("server", "Server", "サーバ"),
    ("servers", "Servers", "サーバ"),
    ("heartbeat", "Heartbeat", "ハートビート"),
    ("group", "Group", "グループ"),
    ("groups", "Groups", "グループ"),
    ("resource", "Resource", "リソース"),
    ("resources", "Resources", "リソース"),
    ("monitor", "Monitor", "モニタ"),
    ("monitors", "Monitors", "モニタ"),
    ("alert_log", "Alert Log", "アラートログ"),
    ("level", "Type", "タイプ"),
    ("received_time", "Received Time", "受信時刻"),
    ("time", "Time", "発生時刻"),
    ("module", "Module", "モジュール名"),
    ("event_id", "Event ID", "イベントID"),
    ("message", "Message", "メッセージ"),
    ("name", "Name", "名前"),
    ("status", "Status", "状態"),
    ("details", "Details", "詳細"),
    ("parameters", "Parameters", "設定"),
    ("value", "Value", "値"),
    ("counters", "Counters", "カウンタ"),
    ("operations", "Operations", "操作"),
    ("daemon", "Cluster service", "クラスタサービス"),
    ("stopped", "Stopped", "停止"),
    ("starting", "Starting", "起動処理中"),
    ("running", "Running", "起動済"),
    ("suspended", "Suspended", "サスペンド"),
    ("stopping", "Stopping", "停止処理中"),
    ("start", "Start", "起動"),
    ("stop", "Stop", "停止"),
    ("suspend", "Suspend", "サスペンド"),
    ("resume", "Resume", "リジューム"),
    ("collect_logs", "Collect Logs", "ログ収集"),
    ("download", "Download", "ダウンロード"),
    ("ok", "OK", "OK"),
    ("cancel", "Cancel", "キャンセル"),
    ("close", "Close", "閉じる"),
    ("confirm", "Confirm", "確認"),
    (
        "confirm_body",
        "{action} {target}?",
        "{target} を{action}しますか?",
    ),
    ("op_done", "Command succeeded.", "コマンドは成功しました。"),
    ("op_failed", "Failed", "失敗しました"),
    (
        "unauthorized",
        "A password is needed",
        "パスワードが必要です",
    ),
    ("forbidden", "Not allowed", "許可されていません"),
    (
        "daemon_down",
        "The cluster service (clppm) is not running: states are shown from the configuration.",
        "クラスタサービス (clppm) は起動していません。状態は設定から表示しています。",
    ),
    ("collecting", "Collecting logs", "ログ収集中"),
    (
        "collected",
        "Log collection finished",
        "ログ収集が完了しました",
    ),
    ("live", "live", "ライブ"),
    ("disconnected", "disconnected", "切断"),
    ("no_alerts", "No alerts yet.", "アラートはまだありません。"),
    ("overview", "Overview", "概要"),
    ("integrated_viewer", "Integrated Viewer", "統合ビューア"),
    ("url", "URL", "URL"),
    ("health", "Health", "状態"),
    ("normal", "Normal", "正常"),
    ("caution", "Caution", "警告"),
    ("error", "Error", "異常"),
    ("unreachable", "Unreachable", "接続不可"),
    (
        "no_servers",
        "No servers in [webmanager] servers.",
        "[webmanager] servers にサーバがありません。",
    ),
    ("this_server", "this server", "このサーバ"),
    // Status words (the original's English words are the keys).
    ("Online", "Online", "起動済"),
    ("Offline", "Offline", "停止済"),
    ("Online Pending", "Online Pending", "起動処理中"),
    ("Offline Pending", "Offline Pending", "停止処理中"),
    ("Online Failure", "Online Failure", "起動異常"),
    ("Offline Failure", "Offline Failure", "停止異常"),
    ("Error", "Error", "異常"),
    ("Unknown", "Unknown", "不明"),
    ("Normal", "Normal", "正常"),
    ("Warning", "Warning", "警告"),
    ("Suspend", "Suspend", "一時停止"),
    ("Info", "Info", "情報"),
    // Parameters and counters.
    ("comment", "Comment", "コメント"),
    ("language", "Language", "言語"),
    (
        "max_records",
        "Max Alert Records",
        "アラートログ最大レコード数",
    ),
    ("alert_syslog", "Alert To Syslog", "syslog へのアラート出力"),
    (
        "disable_monitor_recovery",
        "Disable Recovery Action Caused By Monitor Error",
        "モニタ異常時の回復動作を無効化",
    ),
    ("shutdown", "Shutdown Command", "シャットダウンコマンド"),
    ("reboot", "Reboot Command", "再起動コマンド"),
    ("startup", "Startup Attribute", "起動属性"),
    ("type", "Type", "タイプ"),
    ("start_script", "Start Script", "開始スクリプト"),
    ("stop_script", "Stop Script", "終了スクリプト"),
    ("mode", "Start Type", "開始方式"),
    ("timeout", "Timeout (sec)", "タイムアウト (秒)"),
    (
        "stop_timeout",
        "Stop Script Timeout (sec)",
        "終了スクリプトタイムアウト (秒)",
    ),
    ("depends_on", "Dependency", "依存関係"),
    (
        "activation_retry",
        "Retry Count at Activation Failure",
        "活性リトライしきい値",
    ),
    (
        "activation_final_action",
        "Final Action at Activation Failure",
        "活性異常時の最終動作",
    ),
    (
        "deactivation_retry",
        "Retry Count at Deactivation Failure",
        "非活性リトライしきい値",
    ),
    (
        "deactivation_final_action",
        "Final Action at Deactivation Failure",
        "非活性異常時の最終動作",
    ),
    ("timing", "Monitor Timing", "監視タイミング"),
    ("target", "Target Resource", "対象リソース"),
    ("interval", "Interval (sec)", "インターバル (秒)"),
    ("retry", "Retry Count", "リトライ回数"),
    (
        "wait_before_start",
        "Wait Time to Start Monitoring (sec)",
        "監視開始待ち時間 (秒)",
    ),
    ("nice", "Nice Value", "nice 値"),
    ("recovery_target", "Recovery Target", "回復対象"),
    (
        "reactivation_threshold",
        "Reactivation Threshold",
        "再活性しきい値",
    ),
    (
        "failover_threshold",
        "Failover Threshold",
        "フェイルオーバしきい値",
    ),
    ("final_action", "Final Action", "最終動作"),
    ("reactivations", "Reactivations", "再活性回数"),
    ("failovers", "Failovers", "フェイルオーバ回数"),
    ("final_action_done", "Final Action Done", "最終動作実行済"),
    ("checks", "Checks", "監視回数"),
    ("last_check", "Last Check (ms)", "前回の監視時間 (ミリ秒)"),
    (
        "last_lateness",
        "Last Lateness (ms)",
        "前回の監視遅延 (ミリ秒)",
    ),
    ("last_detail", "Last Error Detail", "前回の異常詳細"),
    ("dummy_failure", "Dummy Failure", "ダミー障害"),
    ("current", "Current Server", "起動サーバ"),
    ("pid", "PID", "PID"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_both_languages_once() {
        let mut seen = std::collections::HashSet::new();
        for (key, en, ja) in TEXTS {
            assert!(seen.insert(*key), "{key} twice");
            assert!(!en.is_empty() && !ja.is_empty(), "{key}");
        }
        assert_eq!(Language::from_code("ja").text("Offline"), "停止済");
        assert_eq!(Language::from_code("en").text("Offline"), "Offline");
        assert_eq!(Language::English.text("no such key"), "");
    }
}
