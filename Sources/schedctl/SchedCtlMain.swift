import SchedCtlKit

/// Entry point of `schedctl`; all commands live in SchedCtlKit.
@main
enum SchedCtlMain {
    static func main() async {
        await SchedCtl.main()
    }
}
