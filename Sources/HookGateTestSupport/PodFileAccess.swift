import Foundation

/// Whether a container's user can read what a pod spec mounts for it, decided as the kubelet lays
/// the files out: Secret, ConfigMap and projected files belong to root (uid 0), with the group
/// `fsGroup` when the pod sets one (else 0) and the mode `items[].mode`, else `defaultMode`, else
/// 0644; a claimed volume's root belongs to root unless `fsGroup` makes it the group's; an emptyDir
/// is writable by all. Stricter than the kubelet on one point: it does not count on the group-read
/// bit the kubelet adds to files when `fsGroup` is set, so the spec must say the mode it needs.
public enum PodFileAccess {
    /// One sentence per mount a container (`only` that one, if named) cannot use; empty when
    /// every mount is usable.
    public static func problems(podSpec: [String: Any], claimTemplates: [String] = [], only: String? = nil) -> [String] {
        let pod = podSpec["securityContext"] as? [String: Any] ?? [:]
        let volumes = Dictionary((podSpec["volumes"] as? [[String: Any]] ?? []).map { ($0["name"] as? String ?? "", $0) }) { first, _ in first }
        let fsGroup = pod["fsGroup"] as? Int
        var problems: [String] = []
        for container in (podSpec["containers"] as? [[String: Any]] ?? []) + (podSpec["initContainers"] as? [[String: Any]] ?? []) {
            let name = container["name"] as? String ?? "?"
            if let only, name != only { continue }
            let own = container["securityContext"] as? [String: Any] ?? [:]
            guard let uid = own["runAsUser"] as? Int ?? pod["runAsUser"] as? Int else {
                problems.append("container \(name) sets no runAsUser: who reads its files depends on the image")
                continue
            }
            var groups = Set((pod["supplementalGroups"] as? [Int]) ?? [])
            if let group = own["runAsGroup"] as? Int ?? pod["runAsGroup"] as? Int { groups.insert(group) }
            if let fsGroup { groups.insert(fsGroup) }
            for mount in container["volumeMounts"] as? [[String: Any]] ?? [] {
                let volumeName = mount["name"] as? String ?? ""
                let path = mount["mountPath"] as? String ?? ""
                let readOnly = mount["readOnly"] as? Bool ?? false
                if claimTemplates.contains(volumeName) || (volumes[volumeName]?["persistentVolumeClaim"] != nil) {
                    if !readOnly, uid != 0, fsGroup == nil {
                        problems.append("container \(name) (uid \(uid)) cannot write \(path): a claimed volume belongs to root without the pod's fsGroup")
                    }
                    continue
                }
                guard let volume = volumes[volumeName] else { continue }
                for (file, mode) in files(volume) where !readable(mode: mode, group: fsGroup ?? 0, uid: uid, groups: groups) {
                    problems.append("container \(name) (uid \(uid), groups \(groups.sorted())) cannot read \(path)/\(file): mode \(String(mode, radix: 8)), root:\(fsGroup ?? 0)")
                }
            }
        }
        return problems
    }

    /// The files a Secret, ConfigMap or projected volume holds, with their modes ("*" for every key).
    static func files(_ volume: [String: Any]) -> [(String, Int)] {
        func listed(_ source: [String: Any], defaultMode: Int) -> [(String, Int)] {
            guard let items = source["items"] as? [[String: Any]] else { return [("*", defaultMode)] }
            return items.map { ($0["path"] as? String ?? "?", $0["mode"] as? Int ?? defaultMode) }
        }
        for kind in ["secret", "configMap"] {
            if let source = volume[kind] as? [String: Any] { return listed(source, defaultMode: source["defaultMode"] as? Int ?? 0o644) }
        }
        if let projected = volume["projected"] as? [String: Any] {
            let defaultMode = projected["defaultMode"] as? Int ?? 0o644
            return (projected["sources"] as? [[String: Any]] ?? []).flatMap { source in
                ["secret", "configMap"].compactMap { source[$0] as? [String: Any] }.flatMap { listed($0, defaultMode: defaultMode) }
            }
        }
        return []
    }

    static func readable(mode: Int, group: Int, uid: Int, groups: Set<Int>) -> Bool {
        if uid == 0 { return mode & 0o400 != 0 }  // the owner
        if groups.contains(group) { return mode & 0o040 != 0 }
        return mode & 0o004 != 0
    }
}
