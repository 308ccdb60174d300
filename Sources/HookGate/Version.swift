public enum HookGateVersion { public static let current = "0.1.0" }
