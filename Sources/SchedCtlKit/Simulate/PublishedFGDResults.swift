/// The FGD paper's published medians (unallocated GPU % at 100% arrived demand, seeds 42...51),
/// as shared/data/SOURCES.md §2 lists them, keyed by the pod list's suffix.
enum PublishedFGDResults {
    static let medians: [String: [String: Double]] = [
        "default": ["Random": 13.75, "DotProd": 9.44, "GpuClustering": 8.42, "GpuPacking": 8.19, "BestFit": 7.09, "FGD": 4.77],
        "cpu050": ["Random": 11.02, "DotProd": 6.94, "GpuClustering": 6.52, "GpuPacking": 6.47, "BestFit": 6.42, "FGD": 5.00],
        "gpushare40": ["Random": 15.04, "DotProd": 10.66, "GpuClustering": 10.18, "GpuPacking": 10.19, "BestFit": 8.53, "FGD": 6.05],
        "gpuspec10": ["Random": 13.69, "DotProd": 9.75, "GpuClustering": 8.06, "GpuPacking": 7.77, "BestFit": 6.88, "FGD": 5.30],
        "multigpu20": ["Random": 13.16, "DotProd": 8.19, "GpuClustering": 6.62, "GpuPacking": 6.49, "BestFit": 6.27, "FGD": 4.47],
    ]

    /// The trace name in a pod-list path (`.../openb_pod_list_cpu050.csv` → `cpu050`), if published.
    static func trace(forPath path: String) -> String? {
        let file = path.split(separator: "/").last.map(String.init) ?? path
        let stem = file.hasSuffix(".csv") ? String(file.dropLast(4)) : file
        guard let suffix = stem.split(separator: "_").last.map(String.init), medians[suffix] != nil else { return nil }
        return suffix
    }
}
