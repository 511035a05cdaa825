import Foundation
import SextantTestSupport
import Testing

@testable import SextantServer

@Suite("Inference server over real sockets")
struct InferenceServerTests {
    static let parityModels = [
        "logistic_regression", "logistic_regression_multiclass", "linear_regression", "random_forest_classifier",
        "decision_tree_regressor", "mlp_classifier", "xgboost_regressor", "lightgbm_classifier", "benchmark_random_forest",
    ]

    @Test("V1 and V2 predictions equal onnxruntime's expected outputs", arguments: parityModels)
    func parity(model: String) async throws {
        let expected = try Expected(model: model)
        var configuration = ServeConfiguration(modelURI: fixtureURL("\(model).onnx").absoluteString, modelName: model)
        configuration.modelVersion = "3"
        try await withServer(configuration) { port, _ in
            let base = "http://127.0.0.1:\(port)"
            // V2, nested data, request id echoed, parameters accepted.
            let request: [String: Any] = [
                "id": "parity-1", "parameters": ["sequence_id": 0],
                "inputs": [["name": "input", "datatype": "FP32", "shape": expected.inputShape, "data": expected.rows]],
            ]
            for path in ["/v2/models/\(model)/infer", "/v2/models/\(model)/versions/3/infer"] {
                let response = try await http("POST", base + path, body: try jsonData(request))
                #expect(response.status == 200, "\(response.text)")
                let json = try response.json()
                #expect(json["id"] as? String == "parity-1")
                let outputs = try #require(json["outputs"] as? [[String: Any]])
                #expect(Set(outputs.compactMap { $0["name"] as? String }) == Set(expected.outputs.keys))
                for output in outputs {
                    let name = try #require(output["name"] as? String)
                    let want = try #require(expected.outputs[name])
                    #expect(output["datatype"] as? String == want.datatype)
                    #expect(output["shape"] as? [Int] == want.shape)
                    let got = try #require(output["data"] as? [Any])
                    #expect(got.count == want.data.count)
                    for (g, w) in zip(got, want.data) {
                        let gd = try #require((g as? NSNumber)?.doubleValue), wd = w
                        #expect(approxEqual(gd, wd), "\(model).\(name): \(gd) vs \(wd)")
                    }
                }
            }
            // Named output selection.
            var selected = request
            let primary = expected.outputs.keys.contains("label") ? "label" : "variable"
            selected["outputs"] = [["name": primary]]
            let one = try await http("POST", base + "/v2/models/\(model)/infer", body: try jsonData(selected)).json()
            #expect((one["outputs"] as? [[String: Any]])?.map { $0["name"] as? String } == [primary])

            // V1 with instances and the inputs alias: classifier labels, regressor scalars.
            for key in ["instances", "inputs"] {
                let response = try await http("POST", base + "/v1/models/\(model):predict", body: try jsonData([key: expected.rows]))
                #expect(response.status == 200, "\(response.text)")
                let predictions = try #require(try response.json()["predictions"] as? [Any])
                let want = try #require(expected.outputs[primary]).data
                #expect(predictions.count == expected.inputShape[0])
                for (g, w) in zip(predictions, want) {
                    let gd = try #require((g as? NSNumber)?.doubleValue)
                    #expect(approxEqual(gd, w))
                }
            }
        }
    }

    @Test("metadata, health, readiness and server endpoints")
    func metadata() async throws {
        let configuration = ServeConfiguration(modelURI: fixtureURL("logistic_regression.onnx").absoluteString, modelName: "lr")
        try await withServer(configuration) { port, _ in
            let base = "http://127.0.0.1:\(port)"
            #expect(try await http("GET", base + "/v2/health/live").status == 200)
            #expect(try await http("GET", base + "/v2/health/ready").status == 200)
            #expect(try await http("GET", base + "/ready").status == 200)
            #expect(try await http("GET", base + "/v2/models/lr/ready").status == 200)
            #expect(try await http("GET", base + "/v2/models/lr/versions/1/ready").status == 200)
            #expect(try await http("GET", base + "/v2/models/other/ready").status == 404)
            let server = try await http("GET", base + "/v2").json()
            #expect(server["name"] as? String == "sextant-server")
            #expect(server["extensions"] is [String])
            let v1 = try await http("GET", base + "/v1/models/lr").json()
            #expect(v1["name"] as? String == "lr" && v1["ready"] as? Bool == true)
            for path in ["/v2/models/lr", "/v2/models/lr/versions/1"] {
                let meta = try await http("GET", base + path).json()
                #expect(meta["platform"] as? String == "onnx")
                #expect(meta["versions"] as? [String] == ["1"])
                let inputs = try #require(meta["inputs"] as? [[String: Any]])
                #expect(inputs.first?["name"] as? String == "input")
                #expect(inputs.first?["datatype"] as? String == "FP32")
                #expect(inputs.first?["shape"] as? [Int] == [-1, 8])
                let outputs = try #require(meta["outputs"] as? [[String: Any]])
                #expect(outputs.map { $0["name"] as? String } == ["label", "probabilities"])
            }
            #expect(try await http("GET", base + "/v2/models/lr/versions/9").status == 404)
        }
    }

    @Test("a wrong digest keeps the server up but not ready, with the reason")
    func digestMismatch() async throws {
        var configuration = ServeConfiguration(modelURI: fixtureURL("logistic_regression.onnx").absoluteString, modelName: "lr")
        configuration.digest = "sha256:" + String(repeating: "0", count: 64)
        try await withServer(configuration) { port, _ in
            let base = "http://127.0.0.1:\(port)"
            #expect(try await http("GET", base + "/v2/health/live").status == 200)
            for path in ["/v2/health/ready", "/v2/models/lr/ready", "/ready"] {
                let response = try await http("GET", base + path)
                #expect(response.status == 503)
                let reason = try #require(try response.json()["reason"] as? String)
                #expect(reason.contains("digest mismatch"), "\(reason)")
            }
            let infer = try await http("POST", base + "/v1/models/lr:predict", body: Data("{\"instances\":[[0,0,0,0,0,0,0,0]]}".utf8))
            #expect(infer.status == 503)
            #expect(try await http("GET", base + "/metrics").text.contains("sextant_model_ready 0"))
        }
        let good = SigV4Signer.hexSHA256(try Data(contentsOf: fixtureURL("logistic_regression.onnx")))
        configuration.digest = "sha256:\(good)"
        try await withServer(configuration) { port, _ in
            let response = try await http("GET", "http://127.0.0.1:\(port)/v2/health/ready")
            #expect(response.status == 200)
        }
    }

    @Test("a missing file or a broken model is reported, not crashed on")
    func loadErrors() async throws {
        let directory = try makeTempDirectory()
        let broken = directory.appendingPathComponent("broken.onnx")
        try Data("not a model".utf8).write(to: broken)
        for uri in [broken.absoluteString, "file:///nonexistent/model.onnx", "ftp://x/y"] {
            try await withServer(ServeConfiguration(modelURI: uri, modelName: "m")) { port, _ in
                let response = try await http("GET", "http://127.0.0.1:\(port)/v2/health/ready")
                #expect(response.status == 503)
                #expect((try response.json()["reason"] as? String)?.isEmpty == false)
            }
        }
    }

    @Test("pvc:// maps to the PVC root")
    func pvcLoading() async throws {
        let root = try makeTempDirectory()
        try FileManager.default.createDirectory(at: root.appendingPathComponent("claim/models"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: fixtureURL("tiny_classifier.onnx"), to: root.appendingPathComponent("claim/models/m.onnx"))
        try await withServer(
            ServeConfiguration(modelURI: "pvc://claim/models/m.onnx", modelName: "tiny"),
            fetchSettings: ModelFetchSettings(pvcRoot: root.path)
        ) { port, _ in
            let response = try await http("GET", "http://127.0.0.1:\(port)/v2/health/ready")
            #expect(response.status == 200)
        }
    }

    @Test("validation errors name the field and never crash")
    func validation() async throws {
        var configuration = ServeConfiguration(modelURI: fixtureURL("logistic_regression.onnx").absoluteString, modelName: "lr")
        configuration.maxBodyBytes = 4096
        try await withServer(configuration) { port, _ in
            let url = "http://127.0.0.1:\(port)/v2/models/lr/infer"
            func infer(_ tensor: [String: Any]) async throws -> HTTPResult {
                try await http("POST", url, body: try jsonData(["inputs": [tensor]]))
            }
            let row = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
            var response = try await infer(["name": "wrong", "datatype": "FP32", "shape": [1, 8], "data": row])
            #expect(response.status == 400 && response.text.contains("wrong"))
            response = try await infer(["name": "input", "datatype": "FP32", "shape": [1, 7], "data": Array(row.prefix(7))])
            #expect(response.status == 400 && response.text.contains("shape"), "\(response.text)")
            response = try await infer(["name": "input", "datatype": "FP32", "shape": [2, 8], "data": row])
            #expect(response.status == 400 && response.text.contains("16 values"), "\(response.text)")
            response = try await infer(["name": "input", "datatype": "INT64", "shape": [1, 8], "data": [1, 2, 3, 4, 5, 6, 7, 8]])
            #expect(response.status == 400 && response.text.contains("datatype"), "\(response.text)")
            response = try await infer(["name": "input", "datatype": "FP32", "shape": [1, 8], "data": ["NaN", 0, 0, 0, 0, 0, 0, 0]])
            #expect(response.status == 422 && response.text.contains("NaN"), "\(response.text)")
            response = try await infer(["name": "input", "datatype": "FP32", "shape": [1, 8], "data": [true, 0, 0, 0, 0, 0, 0, 0]])
            #expect(response.status == 400, "\(response.text)")
            response = try await http(
                "POST", url, body: Data("{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,8],\"data\":[NaN,0,0,0,0,0,0,0]}]}".utf8))
            #expect(response.status == 400 && response.text.contains("NaN"), "\(response.text)")
            response = try await http("POST", url, body: Data("{not json".utf8))
            #expect(response.status == 400)
            response = try await http("POST", url, body: Data(repeating: 0x20, count: 10_000))
            #expect(response.status == 413 && response.text.contains("max-body-bytes"), "\(response.text)")
            response = try await http("POST", "http://127.0.0.1:\(port)/v1/models/lr:predict", body: try jsonData(["instances": [[1, 2], [1, 2, 3]]]))
            #expect(response.status == 400 && response.text.contains("instances[1]"), "\(response.text)")
            response = try await http("POST", "http://127.0.0.1:\(port)/v1/models/lr:predict", body: try jsonData(["rows": [[1]]]))
            #expect(response.status == 400 && response.text.contains("instances"))
            response = try await http("POST", "http://127.0.0.1:\(port)/v2/models/other/infer", body: try jsonData(["inputs": []]))
            #expect(response.status == 404)
            // Still serving.
            response = try await infer(["name": "input", "datatype": "FP32", "shape": [1, 8], "data": row])
            #expect(response.status == 200)
        }
        configuration.allowNaN = true
        try await withServer(configuration) { port, _ in
            let response = try await http(
                "POST", "http://127.0.0.1:\(port)/v2/models/lr/infer",
                body: try jsonData([
                    "inputs": [["name": "input", "datatype": "FP32", "shape": [1, 8], "data": ["NaN", 0, 0, 0, 0, 0, 0, 0]]]
                ]))
            #expect(response.status == 200, "\(response.text)")
        }
    }

    @Test("metrics text has the metric families; stats JSON has the signals")
    func metricsAndStats() async throws {
        var configuration = ServeConfiguration(modelURI: fixtureURL("logistic_regression.onnx").absoluteString, modelName: "lr")
        configuration.driftBaselineURI = fixtureURL("logistic_regression.baseline.json").absoluteString
        try await withServer(configuration) { port, _ in
            let base = "http://127.0.0.1:\(port)"
            let expected = try Expected(model: "logistic_regression")
            _ = try await http("POST", base + "/v1/models/lr:predict", body: try jsonData(["instances": expected.rows]))
            _ = try await http("POST", base + "/v1/models/lr:predict", body: try jsonData(["instances": [[1]]]))
            let text = try await http("GET", base + "/metrics").text
            for family in [
                "sextant_requests_total", "sextant_request_duration_seconds_bucket", "sextant_rows_predicted_total", "sextant_predictions_total",
                "sextant_model_load_seconds", "sextant_model_ready 1", "sextant_drift_psi", "sextant_drift_ks", "sextant_drift_max_psi",
            ] {
                #expect(text.contains(family), "missing \(family)")
            }
            #expect(text.contains("code=\"400\""))
            #expect(!text.contains("parity"), "no request ids in labels")
            let stats = try await http("GET", base + "/v2/models/lr/stats").json()
            #expect(stats["requests"] as? Int == 2)
            #expect(stats["errors"] as? Int == 1)
            #expect(stats["rows"] as? Int == 16)
            let latency = try #require(stats["latency"] as? [String: Any])
            #expect(latency["p50"] is Double && latency["p95"] is Double && latency["p99"] is Double)
            let distribution = try #require(stats["predictionDistribution"] as? [String: Any])
            #expect((distribution["classCounts"] as? [String: Int])?.values.reduce(0, +) == 16)
            let drift = try #require(stats["drift"] as? [String: Any])
            #expect((drift["features"] as? [[String: Any]])?.count == 8)
            #expect(drift["maxPSI"] is Double)
            #expect((stats["accuracy"] as? [String: Any])?["metric"] as? String == "accuracy")
        }
    }

    @Test("drift: a shifted feature's PSI rises above 0.2, unshifted ones stay low")
    func drift() async throws {
        var configuration = ServeConfiguration(modelURI: fixtureURL("logistic_regression.onnx").absoluteString, modelName: "lr")
        configuration.driftBaselineURI = fixtureURL("logistic_regression.baseline.json").absoluteString
        let baseline = try DriftBaseline.decode(try Data(contentsOf: fixtureURL("logistic_regression.baseline.json")))
        try await withServer(configuration) { port, _ in
            // Rows drawn bin by bin in the baseline's proportions (one value inside each bin).
            func valueInBin(_ feature: DriftBaseline.Feature, _ bin: Int) -> Double {
                let cuts = feature.bins
                if bin == 0 { return cuts[0] - 0.01 }
                if bin == cuts.count { return cuts[cuts.count - 1] + 0.01 }
                return (cuts[bin - 1] + cuts[bin]) / 2
            }
            var rows: [[Double]] = []
            for r in 0..<500 {
                rows.append(
                    baseline.features.map { feature in
                        let value = valueInBin(feature, (r * 7 + feature.index) % feature.binFractions.count)
                        return feature.name == "f2" ? value + 10 * (feature.bins.last! - feature.bins.first!) : value
                    })
            }
            for chunk in stride(from: 0, to: rows.count, by: 100) {
                let response = try await http(
                    "POST", "http://127.0.0.1:\(port)/v1/models/lr:predict",
                    body: try jsonData(["instances": Array(rows[chunk..<(chunk + 100)])]))
                #expect(response.status == 200)
            }
            let stats = try await http("GET", "http://127.0.0.1:\(port)/v2/models/lr/stats").json()
            let drift = try #require(stats["drift"] as? [String: Any])
            let features = try #require(drift["features"] as? [[String: Any]])
            for feature in features {
                let name = try #require(feature["name"] as? String)
                let psi = try #require(feature["psi"] as? Double)
                if name == "f2" {
                    #expect(psi > 0.2, "\(name) psi \(psi)")
                    #expect(try #require(feature["ks"] as? Double) > 0.5)
                } else {
                    #expect(psi < 0.1, "\(name) psi \(psi)")
                }
            }
            #expect(try #require(drift["maxPSI"] as? Double) > 0.2)
            #expect(drift["predictionPSI"] is Double)
            let metrics = try await http("GET", "http://127.0.0.1:\(port)/metrics").text
            #expect(metrics.contains("sextant_drift_psi{feature=\"f2\"}"))
        }
    }

    @Test("feedback by request id gives rolling accuracy (classifier) and MAE (regressor)")
    func feedback() async throws {
        let expected = try Expected(model: "logistic_regression")
        let labels = try #require(expected.outputs["label"]).data.map { Int($0) }
        try await withServer(ServeConfiguration(modelURI: fixtureURL("logistic_regression.onnx").absoluteString, modelName: "lr")) { port, _ in
            let base = "http://127.0.0.1:\(port)"
            for index in 0..<4 {
                let body: [String: Any] = [
                    "id": "req-\(index)", "inputs": [["name": "input", "datatype": "FP32", "shape": [1, 8], "data": expected.rows[index]]],
                ]
                #expect(try await http("POST", base + "/v2/models/lr/infer", body: try jsonData(body)).status == 200)
            }
            // Three right, one wrong; one single item and a batch, plus an unknown id.
            var response = try await http("POST", base + "/v2/models/lr/feedback", body: try jsonData(["id": "req-0", "label": labels[0]]))
            #expect(response.status == 200, "\(response.text)")
            response = try await http(
                "POST", base + "/v2/models/lr/feedback",
                body: try jsonData([
                    "feedback": [
                        ["id": "req-1", "label": labels[1]], ["id": "req-2", "label": labels[2]], ["id": "req-3", "label": 1 - labels[3]],
                        ["id": "nope", "label": 1],
                    ]
                ]))
            #expect(try response.json()["unknownIds"] as? [String] == ["nope"])
            let accuracy = try #require(try await http("GET", base + "/v2/models/lr/stats").json()["accuracy"] as? [String: Any])
            #expect(accuracy["metric"] as? String == "accuracy")
            #expect(accuracy["value"] as? Double == 0.75)
            #expect(accuracy["count"] as? Int == 4)
            #expect(try await http("GET", base + "/metrics").text.contains("sextant_online_accuracy{metric=\"accuracy\"} 0.75"))
            response = try await http("POST", base + "/v2/models/lr/feedback", body: try jsonData(["label": 1]))
            #expect(response.status == 400)
        }
        let regression = try Expected(model: "linear_regression")
        let values = try #require(regression.outputs["variable"]).data
        try await withServer(ServeConfiguration(modelURI: fixtureURL("linear_regression.onnx").absoluteString, modelName: "linreg")) { port, _ in
            let base = "http://127.0.0.1:\(port)"
            let body: [String: Any] = [
                "id": "r", "inputs": [["name": "input", "datatype": "FP32", "shape": [2, 8], "data": Array(regression.rows.prefix(2))]],
            ]
            #expect(try await http("POST", base + "/v2/models/linreg/infer", body: try jsonData(body)).status == 200)
            _ = try await http("POST", base + "/v2/models/linreg/feedback", body: try jsonData(["id": "r", "label": [values[0] + 1, values[1] - 3]]))
            let accuracy = try #require(try await http("GET", base + "/v2/models/linreg/stats").json()["accuracy"] as? [String: Any])
            #expect(accuracy["metric"] as? String == "mae")
            #expect(approxEqual(try #require(accuracy["value"] as? Double), 2.0))
        }
    }

    @Test("over --max-concurrency: 503 with Retry-After, probes still answer")
    func overload() async throws {
        var configuration = ServeConfiguration(modelURI: fixtureURL("logistic_regression.onnx").absoluteString, modelName: "lr")
        configuration.maxConcurrency = 1
        try await withServer(configuration) { port, _ in
            let body = "{\"instances\":[[0,0,0,0,0,0,0,0]]}"
            // Hold the only slot with a request whose body is still arriving.
            let slow = try RawConnection(port: port)
            slow.send("POST /v1/models/lr:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n{\"inst")
            // Until the router has taken the slot for it (it reads the rest of the body there).
            try await eventually("the slow request to hold the slot") {
                try await http("GET", "http://127.0.0.1:\(port)/metrics").text.contains("\nsextant_inflight_requests 1")
            }
            let rejected = try await http("POST", "http://127.0.0.1:\(port)/v1/models/lr:predict", body: Data(body.utf8))
            #expect(rejected.status == 503)
            #expect(rejected.headers["retry-after"] == "1")
            #expect(try await http("GET", "http://127.0.0.1:\(port)/v2/health/ready").status == 200)
            slow.send(String(body.dropFirst(6)))
            let answer = await slow.readResponse()
            #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
            #expect(try await http("POST", "http://127.0.0.1:\(port)/v1/models/lr:predict", body: Data(body.utf8)).status == 200)
            #expect(try await http("GET", "http://127.0.0.1:\(port)/metrics").text.contains("sextant_rejected_requests_total{reason=\"overload\"} 1"))
        }
    }

    @Test("a request slower than --request-timeout gets 504")
    func timeout() async throws {
        var configuration = ServeConfiguration(modelURI: fixtureURL("logistic_regression.onnx").absoluteString, modelName: "lr")
        configuration.requestTimeout = 0.3
        try await withServer(configuration) { port, _ in
            let slow = try RawConnection(port: port)
            slow.send("POST /v1/models/lr:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
            let answer = await slow.readResponse()
            #expect(answer.hasPrefix("HTTP/1.1 504"), "\(answer)")
        }
    }
}
