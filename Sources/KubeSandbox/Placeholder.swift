public enum KubeSandboxPlaceholder {}
