import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A token read from standard input, so that it is never a command-line argument: asked for with
/// echo off on a terminal, else the first non-empty line of what is piped in.
enum TokenInput {
    static func read(prompt: String) throws -> String {
        let line: String?
        if isatty(STDIN_FILENO) != 0 {
            FileHandle.standardError.write(Data(prompt.utf8))
            var saved = termios()
            let echoOff = tcgetattr(STDIN_FILENO, &saved) == 0
            if echoOff {
                var quiet = saved
                quiet.c_lflag &= ~tcflag_t(ECHO)
                _ = tcsetattr(STDIN_FILENO, TCSANOW, &quiet)
            }
            line = readLine(strippingNewline: true)
            if echoOff { _ = tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
            FileHandle.standardError.write(Data("\n".utf8))
        } else {
            let text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            line = text.split(whereSeparator: \.isNewline).first { !$0.allSatisfy(\.isWhitespace) }.map(String.init)
        }
        guard let token = line?.trimmingCharacters(in: .whitespaces), !token.isEmpty else {
            throw CLIError("no token: give --token-file FILE, set SCHED_TOKEN, or pipe the token into standard input")
        }
        return token
    }
}
