import DevCluster

/// A Deployment reduced to its pod template's containers (given as the JSON list's inside).
func smpDeployment(containers: String) -> String {
    #"{"spec":{"template":{"spec":{"containers":["# + containers + #"]}}}}"#
}

/// A Deployment reduced to one container's list field (given as the JSON list's inside).
func smpContainer(_ field: String, _ list: String) -> String {
    smpDeployment(containers: #"{"name":"app","# + "\"\(field)\":[" + list + "]}")
}

let strategicMergeCases: [StrategicPatchCase] = [
    StrategicPatchCase(
        summary: "env merges by name: one changed, one added, one deleted with $patch: delete",
        kind: "apps/v1/Deployment",
        original: smpContainer("env", #"{"name":"A","value":"1"},{"name":"B","value":"2"},{"name":"C","value":"3"}"#),
        patch: smpContainer(
            "env",
            #"{"name":"B","value":"two"},{"name":"D","value":"4"},{"name":"C","$patch":"delete"}"#
        ),
        expected: smpContainer("env", #"{"name":"A","value":"1"},{"name":"B","value":"two"},{"name":"D","value":"4"}"#)
    ),
    StrategicPatchCase(
        summary: "ports: null deletes the container's ports and nothing else",
        kind: "apps/v1/Deployment",
        original: smpDeployment(containers: #"{"name":"app","image":"a","ports":[{"containerPort":80}]}"#),
        patch: smpDeployment(containers: #"{"name":"app","ports":null}"#),
        expected: smpDeployment(containers: #"{"name":"app","image":"a"}"#)
    ),
    StrategicPatchCase(
        summary: "$deleteFromPrimitiveList/finalizers removes the listed finalizers",
        kind: "apps/v1/Deployment",
        original: #"{"metadata":{"name":"x","finalizers":["a","b","c","b"]}}"#,
        patch: #"{"metadata":{"$deleteFromPrimitiveList/finalizers":["b","zzz"]}}"#,
        expected: #"{"metadata":{"name":"x","finalizers":["a","c"]}}"#
    ),
    StrategicPatchCase(
        summary: "finalizers are unioned; patch items lead unless the server order places a server item first",
        kind: "/v1/ConfigMap",
        original: #"{"metadata":{"finalizers":["a","b"]}}"#,
        patch: #"{"metadata":{"finalizers":["c","a"]}}"#,
        expected: #"{"metadata":{"finalizers":["c","a","b"]}}"#
    ),
    StrategicPatchCase(
        summary: "$setElementOrder places a new finalizer and keeps a server-only one between its neighbours",
        kind: "/v1/ConfigMap",
        original: #"{"metadata":{"finalizers":["one","four","two"]}}"#,
        patch: #"{"metadata":{"$setElementOrder/finalizers":["three","one","two"],"finalizers":["three"]}}"#,
        expected: #"{"metadata":{"finalizers":["three","one","four","two"]}}"#
    ),
    StrategicPatchCase(
        summary: "$setElementOrder with $deleteFromPrimitiveList reorders and deletes in one patch",
        kind: "/v1/ConfigMap",
        original: #"{"metadata":{"finalizers":["one","two","three"]}}"#,
        patch: #"{"metadata":{"$setElementOrder/finalizers":["two","one"]"#
            + #","$deleteFromPrimitiveList/finalizers":["three"]}}"#,
        expected: #"{"metadata":{"finalizers":["two","one"]}}"#
    ),
    StrategicPatchCase(
        summary: "$patch: replace in a merge list replaces the whole list",
        kind: "apps/v1/Deployment",
        original: smpDeployment(containers: #"{"name":"a","image":"a"},{"name":"b","image":"b"}"#),
        patch: smpDeployment(containers: #"{"$patch":"replace"},{"name":"only","image":"busybox","args":null}"#),
        expected: smpDeployment(containers: #"{"name":"only","image":"busybox"}"#)
    ),
    StrategicPatchCase(
        summary: "$patch: replace in a map replaces the map with the rest of the patch map",
        kind: "apps/v1/Deployment",
        original: #"{"metadata":{"name":"x","labels":{"app":"web","tier":"front"}}}"#,
        patch: #"{"metadata":{"labels":{"$patch":"replace","fresh":"yes"}}}"#,
        expected: #"{"metadata":{"name":"x","labels":{"fresh":"yes"}}}"#
    ),
    StrategicPatchCase(
        summary: "$patch: delete in a map leaves an empty map, as apimachinery does",
        kind: "apps/v1/Deployment",
        original: #"{"spec":{"replicas":1,"strategy":{"type":"Recreate"}}}"#,
        patch: #"{"spec":{"strategy":{"$patch":"delete"}}}"#,
        expected: #"{"spec":{"replicas":1,"strategy":{}}}"#
    ),
    StrategicPatchCase(
        summary: "a null label deletes it while another is added",
        kind: "/v1/Pod",
        original: #"{"metadata":{"labels":{"app":"web","tier":"front"}}}"#,
        patch: #"{"metadata":{"labels":{"app":null,"team":"core","missing":null}}}"#,
        expected: #"{"metadata":{"labels":{"tier":"front","team":"core"}}}"#
    ),
    StrategicPatchCase(
        summary: "$setElementOrder alone reorders the containers",
        kind: "apps/v1/Deployment",
        original: smpDeployment(containers: #"{"name":"a"},{"name":"b"},{"name":"c"}"#),
        patch: #"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"c"},"#
            + #"{"name":"a"},{"name":"b"}]}}}}"#,
        expected: smpDeployment(containers: #"{"name":"c"},{"name":"a"},{"name":"b"}"#)
    ),
    StrategicPatchCase(
        summary: "kubectl apply adding a container puts it where $setElementOrder says",
        kind: "apps/v1/Deployment",
        original: smpDeployment(containers: #"{"name":"a","image":"a"},{"name":"b","image":"b"}"#),
        patch: #"""
            {"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"a"},{"name":"new"},{"name":"b"}],
              "containers":[{"name":"new","image":"n"}]}}}}
            """#,
        expected: smpDeployment(
            containers: #"{"name":"a","image":"a"},{"name":"new","image":"n"},"#
                + #"{"name":"b","image":"b"}"#
        )
    ),
    StrategicPatchCase(
        summary: "adding and deleting with $setElementOrder keeps a server-only item before the added one",
        kind: "apps/v1/Deployment",
        original: smpDeployment(containers: #"{"name":"one"},{"name":"two","image":"b"},{"name":"four","image":"c"}"#),
        patch: #"""
            {"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"two"},{"name":"three"}],
              "containers":[{"name":"three"},{"name":"one","$patch":"delete"}]}}}}
            """#,
        expected: smpDeployment(containers: #"{"name":"two","image":"b"},{"name":"four","image":"c"},{"name":"three"}"#)
    ),
    StrategicPatchCase(
        summary: "adding and deleting with $setElementOrder when the server lacks the listed items",
        kind: "apps/v1/Deployment",
        original: smpDeployment(containers: #"{"name":"one","image":"a"},{"name":"four","image":"c"}"#),
        patch: #"""
            {"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"two"},{"name":"three"}],
              "containers":[{"name":"two"},{"name":"three"},{"name":"one","$patch":"delete"}]}}}}
            """#,
        expected: smpDeployment(containers: #"{"name":"four","image":"c"},{"name":"two"},{"name":"three"}"#)
    ),
    StrategicPatchCase(
        summary: "a container added without $setElementOrder goes first, as kubectl patch users see",
        kind: "apps/v1/Deployment",
        original: smpDeployment(containers: #"{"name":"patch-demo-ctr","image":"nginx"}"#),
        patch: smpDeployment(containers: #"{"name":"patch-demo-ctr-2","image":"redis"}"#),
        expected: smpDeployment(
            containers: #"{"name":"patch-demo-ctr-2","image":"redis"},"#
                + #"{"name":"patch-demo-ctr","image":"nginx"}"#
        )
    ),
    StrategicPatchCase(
        summary: "without $setElementOrder the patch's order wins and server-only items stay ahead of later ones",
        kind: "apps/v1/Deployment",
        original: smpContainer("env", #"{"name":"1"},{"name":"2","value":"b"},{"name":"3"}"#),
        patch: smpContainer("env", #"{"name":"3","value":"c"},{"name":"1","value":"a"}"#),
        expected: smpContainer("env", #"{"name":"2","value":"b"},{"name":"3","value":"c"},{"name":"1","value":"a"}"#)
    ),
    StrategicPatchCase(
        summary: "without metadata objects merge and lists are replaced",
        kind: nil,
        original: #"{"spec":{"items":[1,2],"nested":{"a":1,"b":2},"list":[{"name":"x","v":1}]}}"#,
        patch: #"{"spec":{"items":[3],"nested":{"b":null,"c":3},"list":[{"name":"y"}],"new":{"k":null,"j":1}}}"#,
        expected: #"{"spec":{"items":[3],"nested":{"a":1,"c":3},"list":[{"name":"y"}],"new":{"j":1}}}"#
    ),
    StrategicPatchCase(
        summary: "tolerations carry no strategy and are replaced whole",
        kind: "/v1/Pod",
        original: #"{"spec":{"tolerations":[{"key":"x","operator":"Exists"},{"key":"y","operator":"Exists"}]}}"#,
        patch: #"{"spec":{"tolerations":[{"key":"z","operator":"Exists","value":null}]}}"#,
        expected: #"{"spec":{"tolerations":[{"key":"z","operator":"Exists"}]}}"#
    ),
    StrategicPatchCase(
        summary: "a volume switches from emptyDir to configMap through $retainKeys",
        kind: "/v1/Pod",
        original: #"{"spec":{"volumes":[{"name":"data","emptyDir":{}},{"name":"other","secret":{"secretName":"s"}}]}}"#,
        patch: #"""
            {"spec":{"volumes":[{"$retainKeys":["configMap","name"],"name":"data","configMap":{"name":"cfg"}}]}}
            """#,
        expected: #"{"spec":{"volumes":[{"name":"data","configMap":{"name":"cfg"}},"#
            + #"{"name":"other","secret":{"secretName":"s"}}]}}"#
    ),
    StrategicPatchCase(
        summary: "owner references merge by uid",
        kind: "apps/v1/ReplicaSet",
        original: #"{"metadata":{"ownerReferences":[{"uid":"u1","kind":"Deployment","name":"d"},"#
            + #"{"uid":"u2","kind":"X","name":"x"}]}}"#,
        patch: #"{"metadata":{"ownerReferences":[{"uid":"u1","controller":true}]}}"#,
        expected: #"""
            {"metadata":{"ownerReferences":[{"uid":"u1","kind":"Deployment","name":"d","controller":true},
              {"uid":"u2","kind":"X","name":"x"}]}}
            """#
    ),
    StrategicPatchCase(
        summary: "service ports merge by port",
        kind: "/v1/Service",
        original: #"{"spec":{"ports":[{"port":80,"name":"http","targetPort":8080},{"port":443,"name":"https"}]}}"#,
        patch: #"{"spec":{"ports":[{"port":80,"targetPort":9090}]}}"#,
        expected: #"{"spec":{"ports":[{"port":80,"name":"http","targetPort":9090},{"port":443,"name":"https"}]}}"#
    ),
    StrategicPatchCase(
        summary: "deployment status conditions merge by type",
        kind: "apps/v1/Deployment",
        original: #"{"status":{"conditions":[{"type":"Available","status":"False"},"#
            + #"{"type":"Progressing","status":"True"}]}}"#,
        patch: #"{"status":{"conditions":[{"type":"Available","status":"True"}]}}"#,
        expected: #"{"status":{"conditions":[{"type":"Available","status":"True"},"#
            + #"{"type":"Progressing","status":"True"}]}}"#
    ),
    StrategicPatchCase(
        summary: "pod IPs merge by ip and readiness conditions by type",
        kind: "/v1/Pod",
        original: #"{"status":{"podIPs":[{"ip":"10.0.0.1"}],"conditions":[{"type":"Ready","status":"False"}]}}"#,
        patch: #"{"status":{"podIPs":[{"ip":"fd00::1"}],"conditions":[{"type":"Ready","status":"True"}]}}"#,
        expected: #"{"status":{"podIPs":[{"ip":"fd00::1"},{"ip":"10.0.0.1"}"#
            + #"],"conditions":[{"type":"Ready","status":"True"}]}}"#
    ),
    StrategicPatchCase(
        summary: "autoscaling/v2 metrics are atomic and replaced whole",
        kind: "autoscaling/v2/HorizontalPodAutoscaler",
        original: #"{"spec":{"maxReplicas":5,"metrics":[{"type":"Resource","resource":{"name":"cpu"}},"#
            + #"{"type":"Pods"}]}}"#,
        patch: #"{"spec":{"metrics":[{"type":"Resource","resource":{"name":"memory"}}]}}"#,
        expected: #"{"spec":{"maxReplicas":5,"metrics":[{"type":"Resource","resource":{"name":"memory"}}]}}"#
    ),
    StrategicPatchCase(
        summary: "a value with nothing to merge into loses its nulls and directives",
        kind: "/v1/Pod",
        original: #"{"spec":{"containers":[{"name":"app"}]}}"#,
        patch: #"""
            {"spec":{"initContainers":[{"name":"init","image":"busybox","resources":null,
              "$setElementOrder/env":[{"name":"A"}],"env":[{"name":"A","value":"1"},{"name":"B","$patch":"delete"}]}],
              "securityContext":{"$patch":"delete"}}}
            """#,
        expected: #"""
            {"spec":{"containers":[{"name":"app"}],
              "initContainers":[{"name":"init","image":"busybox","env":[{"name":"A","value":"1"}]}]}}
            """#
    ),
    StrategicPatchCase(
        summary: "$deleteFromPrimitiveList also works on a list without merge strategy",
        kind: "apps/v1/Deployment",
        original: smpContainer("args", #""-v","--port=80""#),
        patch: smpDeployment(containers: #"{"name":"app","$deleteFromPrimitiveList/args":["-v"]}"#),
        expected: smpContainer("args", #""--port=80""#)
    ),
    StrategicPatchCase(
        summary: "$patch: delete of an element the server lacks changes nothing",
        kind: "apps/v1/Deployment",
        original: smpContainer("env", #"{"name":"A","value":"1"}"#),
        patch: smpContainer("env", #"{"name":"GONE","$patch":"delete"}"#),
        expected: smpContainer("env", #"{"name":"A","value":"1"}"#)
    ),
    StrategicPatchCase(
        summary: "$patch: delete removes every element with that key",
        kind: "apps/v1/Deployment",
        original: smpContainer("env", #"{"name":"A","value":"1"},{"name":"B"},{"name":"A","value":"2"}"#),
        patch: smpContainer("env", #"{"name":"A","$patch":"delete"}"#),
        expected: smpContainer("env", #"{"name":"B"}"#)
    ),
    StrategicPatchCase(
        summary: "$retainKeys without a change keeps only the listed keys",
        kind: "apps/v1/Deployment",
        original: #"{"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}}"#,
        patch: #"{"spec":{"strategy":{"$retainKeys":["type"]}}}"#,
        expected: #"{"spec":{"strategy":{"type":"RollingUpdate"}}}"#
    ),
    StrategicPatchCase(
        summary: "a list replacing an object and an object replacing a scalar take the patch value",
        kind: nil,
        original: #"{"a":{"k":1},"b":"text","c":[1]}"#,
        patch: #"{"a":[1,2],"b":{"k":{"x":null,"y":2}},"c":"now"}"#,
        expected: #"{"a":[1,2],"b":{"k":{"y":2}},"c":"now"}"#
    ),
    StrategicPatchCase(
        summary: "a top-level $patch: replace replaces the whole document",
        kind: "/v1/ConfigMap",
        original: #"{"metadata":{"name":"x"},"data":{"a":"1"}}"#,
        patch: #"{"$patch":"replace","data":{"b":"2"}}"#,
        expected: #"{"data":{"b":"2"}}"#
    ),
]

let strategicMergeRefusals: [StrategicPatchRefusal] = [
    StrategicPatchRefusal(
        summary: "an unknown $patch in a map",
        kind: "apps/v1/Deployment",
        original: #"{"metadata":{"labels":{"a":"b"}}}"#,
        patch: #"{"metadata":{"labels":{"$patch":"frobnicate"}}}"#,
        message: "unknown patch type: frobnicate in map: map[$patch:frobnicate]"
    ),
    StrategicPatchRefusal(
        summary: "an unknown $patch in a merge-list element",
        kind: "apps/v1/Deployment",
        original: smpDeployment(containers: #"{"name":"app"}"#),
        patch: smpDeployment(containers: #"{"name":"app","$patch":"frobnicate"}"#),
        message: "unknown patch type: frobnicate in map: map[$patch:frobnicate name:app]"
    ),
    StrategicPatchRefusal(
        summary: "a non-string $patch",
        kind: nil,
        original: #"{"spec":{"a":1}}"#,
        patch: #"{"spec":{"$patch":true}}"#,
        message: "unknown patch type: %!s(bool=true) in map: map[$patch:true]"
    ),
    StrategicPatchRefusal(
        summary: "a merge-list element without its merge key",
        kind: "apps/v1/Deployment",
        original: smpDeployment(containers: #"{"name":"app"}"#),
        patch: smpDeployment(containers: #"{"image":"nginx"}"#),
        message: "map: map[image:nginx] does not contain declared merge key: name"
    ),
    StrategicPatchRefusal(
        summary: "a $patch: delete element without its merge key",
        kind: "apps/v1/Deployment",
        original: smpDeployment(containers: #"{"name":"app"}"#),
        patch: smpDeployment(containers: #"{"$patch":"delete"}"#),
        message: "map: map[$patch:delete] does not contain declared merge key: name"
    ),
    StrategicPatchRefusal(
        summary: "a server element without the merge key",
        kind: "apps/v1/Deployment",
        original: smpDeployment(containers: #"{"image":"x"}"#),
        patch: smpDeployment(containers: #"{"name":"a"}"#),
        message: "map: map[image:x] does not contain declared merge key: name"
    ),
    StrategicPatchRefusal(
        summary: "numbers print as Go prints them",
        kind: "apps/v1/Deployment",
        original: smpContainer("ports", #"{"containerPort":80}"#),
        patch: smpContainer("ports", #"{"name":"x","hostPort":1234567.5,"count":8080,"ratio":0.25}"#),
        message: "map: map[count:8080 hostPort:1.2345675e+06 name:x ratio:0.25] does not contain declared merge key: "
            + "containerPort"
    ),
    StrategicPatchRefusal(
        summary: "$patch: merge in a list",
        kind: "apps/v1/Deployment",
        original: smpDeployment(containers: #"{"name":"app"}"#),
        patch: smpDeployment(containers: #"{"$patch":"merge"}"#),
        message: "merging lists cannot yet be specified in the patch"
    ),
    StrategicPatchRefusal(
        summary: "a patch key missing from $retainKeys",
        kind: "apps/v1/Deployment",
        original: #"{"spec":{"strategy":{"type":"RollingUpdate"}}}"#,
        patch: #"{"spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":{"maxSurge":1}}}}"#,
        message: "invalid patch format of retainKeys"
    ),
    StrategicPatchRefusal(
        summary: "a $retainKeys that is not a list",
        kind: "apps/v1/Deployment",
        original: #"{"spec":{"strategy":{"type":"RollingUpdate"}}}"#,
        patch: #"{"spec":{"strategy":{"$retainKeys":"type"}}}"#,
        message: "invalid patch format of retainKeys"
    ),
    StrategicPatchRefusal(
        summary: "a patch list out of $setElementOrder's order",
        kind: "apps/v1/Deployment",
        original: smpDeployment(containers: #"{"name":"a"},{"name":"b"}"#),
        patch: #"""
            {"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"a"},{"name":"b"}],
              "containers":[{"name":"b","image":"x"},{"name":"a","image":"y"}]}}}}
            """#,
        message: "The order in patch list:\n[map[image:x name:b] map[image:y name:a]]\n doesn't match "
            + "$setElementOrder list:\n[map[name:a] map[name:b]]\n"
    ),
    StrategicPatchRefusal(
        summary: "a $setElementOrder that is not a list",
        kind: "apps/v1/Deployment",
        original: smpDeployment(containers: #"{"name":"a"}"#),
        patch: #"{"spec":{"template":{"spec":{"$setElementOrder/containers":"a"}}}}"#,
        message: "expected a []interface {}, but received a string"
    ),
    StrategicPatchRefusal(
        summary: "a $setElementOrder key without a field",
        kind: "apps/v1/Deployment",
        original: smpDeployment(containers: #"{"name":"a"}"#),
        patch: #"{"spec":{"template":{"spec":{"$setElementOrder":[]}}}}"#,
        message: "invalid patch format of setElementOrder list"
    ),
    StrategicPatchRefusal(
        summary: "a $deleteFromPrimitiveList key without a field",
        kind: "/v1/ConfigMap",
        original: #"{"metadata":{"finalizers":["a"]}}"#,
        patch: #"{"metadata":{"$deleteFromPrimitiveList":["a"]}}"#,
        message: "invalid patch format of primitive list"
    ),
    StrategicPatchRefusal(
        summary: "a list of lists",
        kind: "/v1/ConfigMap",
        original: #"{"metadata":{"finalizers":["a"]}}"#,
        patch: #"{"metadata":{"finalizers":[["b"]]}}"#,
        message: "list element types are not identical: [[a] [[b]]]"
    ),
    StrategicPatchRefusal(
        summary: "a list whose first element is a list",
        kind: "/v1/ConfigMap",
        original: #"{"metadata":{"finalizers":[]}}"#,
        patch: #"{"metadata":{"finalizers":[["b"]]}}"#,
        message: "lists of lists are not supported"
    ),
    StrategicPatchRefusal(
        summary: "merging elements of different types",
        kind: "/v1/ConfigMap",
        original: #"{"metadata":{"finalizers":["a"]}}"#,
        patch: #"{"metadata":{"finalizers":[1]}}"#,
        message: "list element types are not identical: [[a] [1]]"
    ),
    StrategicPatchRefusal(
        summary: "a patch that is a list",
        kind: "/v1/ConfigMap",
        original: #"{"metadata":{}}"#,
        patch: #"[{"op":"add"}]"#,
        message: "invalid JSON document"
    ),
]
