/// The example manifests of `manifests/examples/`, byte for byte (a test keeps them equal), so `fledge demo`
/// works from any directory.
enum DemoManifests {
    /// `manifests/examples/podinfo.yaml`.
    static let podinfo = #"""
        # Example workload: the `prod` namespace and the podinfo Deployment the
        # tutorial's Canary (canary.yaml) targets. Apply this first, then canary.yaml.
        #
        # Fledge creates the services itself (podinfo, podinfo-primary,
        # podinfo-canary), so there is no Service here. The namespace is meshed by
        # Linkerd, whose proxy metrics drive the analysis.
        apiVersion: v1
        kind: Namespace
        metadata:
          name: prod
          annotations:
            linkerd.io/inject: enabled
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: podinfo
          namespace: prod
          labels:
            app: podinfo
        spec:
          minReadySeconds: 3
          revisionHistoryLimit: 5
          progressDeadlineSeconds: 60
          strategy:
            rollingUpdate:
              maxUnavailable: 0
            type: RollingUpdate
          selector:
            matchLabels:
              app: podinfo
          template:
            metadata:
              labels:
                app: podinfo
              annotations:
                prometheus.io/scrape: "true"
                prometheus.io/port: "9797"
            spec:
              containers:
                - name: podinfod
                  image: ghcr.io/stefanprodan/podinfo:3.1.0
                  imagePullPolicy: IfNotPresent
                  ports:
                    - name: http
                      containerPort: 9898
                      protocol: TCP
                    - name: http-metrics
                      containerPort: 9797
                      protocol: TCP
                  command:
                    - ./podinfo
                    - --port=9898
                    - --port-metrics=9797
                    - --level=info
                  readinessProbe:
                    exec:
                      command:
                        - podcli
                        - check
                        - http
                        - localhost:9898/readyz
                    initialDelaySeconds: 5
                    timeoutSeconds: 5
                  livenessProbe:
                    exec:
                      command:
                        - podcli
                        - check
                        - http
                        - localhost:9898/healthz
                    initialDelaySeconds: 5
                    timeoutSeconds: 5
                  resources:
                    requests:
                      cpu: 100m
                      memory: 64Mi

        """#

    /// `manifests/examples/canary.yaml`.
    static let canary = #"""
        # Example: the Canary from the podinfo tutorial (Flagger with Linkerd,
        # "Creating a canary for podinfo"), unchanged. A Flagger user's manifest must
        # work as is: Fledge defaults and validates it at admission, then runs the
        # release on Linkerd when podinfo's pod template changes.
        #
        #   kubectl apply -f manifests/examples/podinfo.yaml
        #   kubectl apply -f manifests/examples/canary.yaml
        #   kubectl -n prod get canary
        apiVersion: flagger.app/v1beta1
        kind: Canary
        metadata:
          name: podinfo
          namespace: prod
          annotations:
            fluxcd.io/ignore: "false"
        spec:
          targetRef:
            apiVersion: apps/v1
            kind: Deployment
            name: podinfo
          service:
            port: 9898
          analysis:
            interval: 10s
            maxWeight: 100
            stepWeight: 5
            threshold: 5
            metrics:
            - name: request-success-rate
              thresholdRange:
                min: 99
              interval: 1m
            - name: request-duration
              thresholdRange:
                max: 500
              interval: 1m
            webhooks:
              - name: acceptance-test
                type: pre-rollout
                url: http://flagger-loadtester.prod/
                timeout: 30s
                metadata:
                  type: bash
                  cmd: "curl -sd 'test' http://podinfo-canary.prod:9898/token | grep token"
              - name: load-test
                type: rollout
                url: http://flagger-loadtester.prod/
                metadata:
                  cmd: "hey -z 2m -q 10 -c 2 http://podinfo-canary.prod:9898/"

        """#

    /// `manifests/examples/invalid-canary.yaml`.
    static let invalidCanary = #"""
        # Example: a Canary with several mistakes, to show admission-time validation.
        #
        # `kubectl apply -f manifests/examples/invalid-canary.yaml` is refused by the
        # mutating webhook (mutate.canaries.flagger.app), before any default is written,
        # with every problem at once (`fledge validate -f` prints the same list):
        #
        #   * spec.analysis.webhooks[0].type: Unsupported value: "pre_rollout": supported values: "", "confirm-rollout",
        #     "pre-rollout", "rollout", "confirm-promotion", "post-rollout", "event", "rollback", "confirm-traffic-increase"
        #   * spec.analysis.interval: Invalid value: "5x": must be a Go duration such as 30s, 1m or 1m30s
        #   * spec.analysis.stepWeight: Invalid value: 150: must be between 1 and 100
        #   * spec.analysis.metrics[0].templateRef: Required value: metric "error-rate" is not built in
        #     (request-success-rate, request-duration); give it a templateRef to a MetricTemplate or an inline query
        apiVersion: flagger.app/v1beta1
        kind: Canary
        metadata:
          name: podinfo-bad
          namespace: prod
        spec:
          targetRef:
            apiVersion: apps/v1
            kind: Deployment
            name: podinfo
          service:
            port: 9898
          analysis:
            interval: 5x          # mistake: not a Go duration
            threshold: 5
            maxWeight: 50
            stepWeight: 150       # mistake: out of 1-100 (and above maxWeight)
            metrics:
              - name: error-rate  # mistake: not built-in, and no query or templateRef
                thresholdRange:
                  max: 1
                interval: 1m
            webhooks:
              - name: acceptance-test
                type: pre_rollout # mistake: the type is spelled pre-rollout
                url: http://flagger-loadtester.prod/
                timeout: 30s
                metadata:
                  type: bash
                  cmd: "curl -sd 'test' http://podinfo-canary.prod:9898/token | grep token"

        """#
}
