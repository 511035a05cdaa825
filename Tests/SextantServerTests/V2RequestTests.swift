import Foundation
import KubeCore
import SextantModelRuntime
import Testing

@testable import SextantServer

/// V2 bodies read in one pass (`V2RequestParts`) and checked by `TensorCodec.decodeV2`.
@Suite("V2 request bodies")
struct V2RequestTests {
    let model: InferenceModel

    init() throws {
        model = InferenceModel(name: "lr", version: "1", model: try ONNXModel(contentsOf: fixtureURL("logistic_regression.onnx")))
    }

    private func decode(_ json: String) throws -> V2InferRequest {
        try TensorCodec.decodeV2(Array(json.utf8), model: model, allowNaN: false)
    }

    private func failure(_ json: String) -> String {
        do {
            _ = try decode(json)
            return "no error"
        } catch let error as InferenceError {
            return "\(error.status) \(error.message)"
        } catch {
            return "\(error)"
        }
    }

    private static let row = "[0.5,1,2,3,4,5,6,7]"

    @Test("nested, flat and row-per-array data give the same tensor; other members are skipped")
    func shapes() throws {
        let flat = try decode(#"{"id":"a","inputs":[{"name":"input","datatype":"FP32","shape":[1,8],"data":\#(Self.row)}]}"#)
        let nested = try decode(
            #"{"extra":{"x":[1,[2]]},"inputs":[{"parameters":{},"name":"input","datatype":"FP32","shape":[1,8],"data":[\#(Self.row)]}],"parameters":{"p":1}}"#)
        let deeper = try decode(#"{"inputs":[{"name":"input","datatype":"FP32","shape":[1,8],"data":[[[0.5,1],[2,3]],[[4,5],[6,7]]]}]}"#)
        #expect(flat.id == "a" && nested.id == nil)
        for request in [flat, nested, deeper] {
            #expect(request.inputs.count == 1)
            #expect(request.inputs[0].tensor.floats == [0.5, 1, 2, 3, 4, 5, 6, 7])
            #expect(request.inputs[0].tensor.shape == [1, 8])
        }
        // A repeated member: the last one counts, as for any JSON object here.
        let repeated = try decode(#"{"id":"first","id":"second","inputs":[{"name":"input","datatype":"FP32","shape":[1,8],"data":\#(Self.row)}]}"#)
        #expect(repeated.id == "second")
    }

    @Test("element faults name the element, whether the data was read as numbers or as values")
    func elementFaults() {
        let cases: [(String, String)] = [
            ("[1,\"NaN\",3,4,5,6,7,8]", "422 input 'input': value at index 1 is NaN"),
            ("[1,2,1e400,4,5,6,7,8]", "422 input 'input': value at index 2 is infinite"),
            ("[[1,2,3,4],[5,6,7,\"x\"]]", "400 input 'input': value at index 7 must be a number"),
            ("[1,2,3,4,5,6,7,true]", "400 input 'input': value at index 7 must be a number"),
            ("[1,2,3,4,5,6,7]", "400 input 'input': shape [1, 8] needs 8 values, got 7"),
        ]
        for (data, expected) in cases {
            let message = failure(#"{"inputs":[{"name":"input","datatype":"FP32","shape":[1,8],"data":\#(data)}]}"#)
            #expect(message.hasPrefix(expected), "\(data): \(message)")
        }
        let large = try? decode(#"{"inputs":[{"name":"input","datatype":"FP32","shape":[1,8],"data":[9007199254740993,1,2,3,4,5,6,7]}]}"#)
        #expect(large?.inputs[0].tensor.floats?.first == Float(9_007_199_254_740_993 as Int64))
    }

    @Test("structural faults get their message, in a fixed order")
    func faults() {
        let cases: [(String, String)] = [
            ("[1,2]", "400 request body must be a JSON object"),
            ("{\"inputs\":[}", "400 request body is not valid JSON"),
            ("{\"inputs\":[{\"data\":[NaN]}]}", "400 request body is not valid JSON (bare NaN/Infinity are not JSON"),
            ("{\"inputs\":{}}", "400 'inputs' must be an array of tensors"),
            ("{}", "400 'inputs' must be an array of tensors"),
            ("{\"id\":3,\"inputs\":{}}", "400 'id' must be a string"),
            ("{\"parameters\":[],\"inputs\":[]}", "400 'parameters' must be an object"),
            ("{\"inputs\":[7]}", "400 inputs[0] must be an object"),
            ("{\"inputs\":[{\"name\":1}]}", "400 inputs[0].name must be a string"),
            (#"{"inputs":[{"name":"input","datatype":"FP32","shape":[1,8]}]}"#, "400 input 'input': 'data' is missing"),
            (
                #"{"inputs":[{"name":"input","datatype":"FP32","shape":[1,8],"data":[1,[2,3,4,5,6,7,8]]}]}"#,
                "400 input 'input': shape [1, 8] needs 8 values, got 2"
            ),
            (#"{"inputs":[{"name":"input","datatype":"FP32","shape":[1,2],"data":[1,[2]]}]}"#, "400 input 'input'"),
            (#"{"inputs":[]}"#, "400 missing input 'input'"),
        ]
        for (body, expected) in cases {
            let message = failure(body)
            #expect(message.hasPrefix(expected), "\(body): \(message)")
        }
    }
}
