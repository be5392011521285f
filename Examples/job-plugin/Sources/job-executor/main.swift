import ExecutorCLI
import ExecutorControllers
import JobPlugin

// The stock plugins, and one of ours: the whole executor, with `run`, `dev`, `manifests`, …
await ExecutorCLI.main(plugins: PluginRegistration.builtIn + [.plugin { config in JobPlugin(config: config.plugins) }])
