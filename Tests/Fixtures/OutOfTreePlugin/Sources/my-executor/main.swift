import ExecutorCLI
import ExecutorControllers
import NotePlugin

// The stock plugins, and one of ours.
await ExecutorCLI.main(plugins: PluginRegistration.builtIn + [.plugin(NotePlugin())])
