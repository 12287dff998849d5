import Foundation

/// Finds a data set's files in a directory, each stored either plain or gzip-compressed.
enum DatasetFiles {
    /// The path of each of `names` in `directory` — `name.gz` when that exists, otherwise `name` — and
    /// the names (written `name[.gz]`) found under neither.
    static func locate(_ names: [String], in directory: String) -> (paths: [String], missing: [String]) {
        var missing = [String]()
        let paths = names.map { name in
            let plain = (directory as NSString).appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: plain + ".gz") { return plain + ".gz" }
            if !FileManager.default.fileExists(atPath: plain) { missing.append(name + "[.gz]") }
            return plain
        }
        return (paths, missing)
    }
}
