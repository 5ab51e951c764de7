/**
 * Loading a model file the way every zkai entry point does: native JSON as it is, ONNX imported on the fly (an ONNX
 * graph does not say what range its inputs lie in, so the caller must).
 */
import { ModelError } from './errors.ts';
import { loadNativeModel, type FloatModel } from './native.ts';
import { importOnnxModel, type ImportReport } from './onnx-import.ts';

/** Whether a path names an ONNX file (by its extension). */
export function isOnnxPath(path: string): boolean {
  return /\.onnx$/i.test(path);
}

/**
 * Load a native JSON model or import an ONNX one. `inputRange` is required for ONNX (quantization derives every bit
 * width from it) and ignored for native models, which declare their own.
 *
 * @throws {ModelError} for an ONNX file without an input range; the loaders' errors for unreadable or unsupported files.
 */
export async function loadModelFile(
  path: string,
  inputRange?: { min: number; max: number },
): Promise<{ model: FloatModel; notes: string[]; report?: ImportReport }> {
  if (isOnnxPath(path)) {
    if (!inputRange)
      throw new ModelError(
        `${path}: an ONNX model does not say what range its inputs lie in: give its input range (--input-min and --input-max)`,
      );
    const { model, report } = await importOnnxModel(path, { inputRange });
    return { model, notes: report.notes, report };
  }
  return { model: await loadNativeModel(path), notes: [] };
}
