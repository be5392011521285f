import ExecutorCLI
import ExecutorControllers

// The stock executor: the command line with the plugins this repository ships. A package with
// plugins of its own makes the same call with its list (see ExecutorCLI).
await ExecutorCLI.main(plugins: PluginRegistration.builtIn)
